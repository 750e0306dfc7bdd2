// Runs in the renderer. The heatmap-method chooser wherever a CAM method is picked: the findings
// panel, the side-by-side view, batch review and the PACS batch.
import type { CamMethod } from '../../preload/api';
import { CAM_METHODS } from '../state/findings';

export function CamMethodSelect(props: { value: CamMethod; onChange: (method: CamMethod) => void; label?: string; testId: string; disabled?: boolean }) {
  return (
    <select aria-label={props.label} data-testid={props.testId} value={props.value} disabled={props.disabled} onChange={(e) => props.onChange(e.currentTarget.value as CamMethod)}>
      {CAM_METHODS.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name}
        </option>
      ))}
    </select>
  );
}
