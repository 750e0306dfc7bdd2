// Runs in the renderer. The shell: header, samples and the study browser on the left, the image in
// the centre, the model's findings and the reader's review on the right.
import { useEffect } from 'react';
import { call, getTransport, onEvent } from '../api/client';
import { FeedbackPanel } from '../panels/FeedbackPanel';
import { FindingsPanel, ModelPanel } from '../panels/FindingsPanel';
import { ReaderSwitcher } from '../panels/ReaderSwitcher';
import { ReviewPanel } from '../panels/ReviewPanel';
import { SideTabs } from '../panels/SideTabs';
import { WorklistProgress } from '../panels/WorklistPanel';
import { SamplesPanel } from '../panels/SamplesPanel';
import { StudyBrowser } from '../panels/StudyBrowser';
import { useFindings } from '../state/findings';
import { useSession } from '../state/session';
import { useStudy } from '../state/study';
import { ImageView } from '../viewer/ImageView';
import type { RendererChoice } from '../viewer/controller';
import { attachHotkeys } from './hotkeys';
import { Notices } from './Notices';

const HOST_WORDS = { starting: 'Model starting', ready: 'Model ready', crashed: 'Model stopped', restarting: 'Model restarting' } as const;

function Header() {
  const frontDoor = useSession((s) => s.frontDoor);
  const appInfo = useSession((s) => s.appInfo);
  const host = useSession((s) => s.hostStatus);
  return (
    <header className="app-header">
      <h1>Resight</h1>
      <span className="subtitle">Radiograph review with explainable AI</span>
      <span className="spacer" />
      <WorklistProgress />
      <ReaderSwitcher />
      {host && (
        <span className={`pill host ${host.state}`} title={host.detail}>
          {HOST_WORDS[host.state]}
        </span>
      )}
      {frontDoor && <span className="pill">{frontDoor === 'browser' ? 'Browser mode' : 'Desktop'}</span>}
      {appInfo && <span className="version">v{appInfo.version}</span>}
    </header>
  );
}

/** `?renderer=canvas2d` forces the fallback path (to compare it with WebGL2, or to work around a driver). */
function rendererChoice(): RendererChoice {
  return new URLSearchParams(window.location.search).get('renderer') === 'canvas2d' ? 'canvas2d' : 'auto';
}

export function App() {
  useEffect(() => {
    const session = useSession.getState();
    session.setFrontDoor(getTransport().frontDoor);
    call('app.info', {}).then(session.setAppInfo, session.reportError);
    void useStudy.getState().loadSamples();
    void useFindings.getState().loadModels();
    const offHost = onEvent('inference.hostStatus', session.setHostStatus);
    const offKeys = attachHotkeys();
    const offMenu = getTransport().onMenuCommand?.((command) => {
      if (command === 'open-file') void useStudy.getState().openWithDialog();
    });
    return () => {
      offHost();
      offKeys();
      offMenu?.();
    };
  }, []);

  return (
    <div className="app">
      <Header />
      <main className="workspace">
        <div className="left-column">
          <SamplesPanel />
          <StudyBrowser />
        </div>
        <ImageView renderer={rendererChoice()} />
        <aside className="panel right" aria-label="Findings and review">
          <ModelPanel />
          <SideTabs
            review={
              <>
                <FindingsPanel />
                <ReviewPanel />
                <FeedbackPanel />
              </>
            }
          />
        </aside>
      </main>
      <Notices />
    </div>
  );
}
