// Runs anywhere (pure). The regions readers drew, as a COCO detection document in image pixels:
// images (named by case, as in the zip), categories = the model's labels, one annotation per region
// from each reader's latest review.
//  - box: bbox [x, y, w, h], segmentation = its four corners, area = w × h.
//  - polygon: segmentation = the outline [x1, y1, x2, y2, …], bbox = its bounds, area = shoelace area.
//  - point: a keypoint [x, y, 2] (num_keypoints 1, each category declares one keypoint "point"),
//    with a 1 × 1 px box centred on it (and that box as segmentation) so detection tools that
//    expect a bbox still load it; area 1.
// Every annotation says who drew it and what they called the label (attributes), so a user can
// keep one reader's regions or only regions on labels called present.
import { z } from 'zod';
import type { Region } from '../../preload/api';
import type { Manifest } from './manifest';

export const CocoDocument = z.object({
  info: z.object({ description: z.string(), version: z.string(), date_created: z.string(), contributor: z.string() }),
  images: z.array(z.object({ id: z.number().int().positive(), file_name: z.string(), width: z.number().int().positive(), height: z.number().int().positive() })),
  categories: z.array(
    z.object({ id: z.number().int().positive(), name: z.string(), supercategory: z.string(), keypoints: z.array(z.string()), skeleton: z.array(z.array(z.number())) }),
  ),
  annotations: z.array(
    z.object({
      id: z.number().int().positive(),
      image_id: z.number().int().positive(),
      category_id: z.number().int().positive(),
      bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]),
      segmentation: z.array(z.array(z.number())),
      area: z.number().nonnegative(),
      iscrowd: z.literal(0),
      keypoints: z.array(z.number()).optional(),
      num_keypoints: z.number().int().optional(),
      attributes: z.object({ reader: z.string(), kind: z.enum(['box', 'polygon', 'point']), call: z.enum(['present', 'absent', 'uncertain']).nullable() }),
    }),
  ),
});
export type CocoDocument = z.infer<typeof CocoDocument>;
type Annotation = CocoDocument['annotations'][number];

const shoelace = (pts: ReadonlyArray<{ x: number; y: number }>): number => {
  let s = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) s += pts[j]!.x * pts[i]!.y - pts[i]!.x * pts[j]!.y;
  return Math.abs(s) / 2;
};

function geometry(region: Region): Pick<Annotation, 'bbox' | 'segmentation' | 'area' | 'keypoints' | 'num_keypoints'> {
  switch (region.kind) {
    case 'box': {
      const x0 = Math.min(region.x0, region.x1);
      const y0 = Math.min(region.y0, region.y1);
      const x1 = Math.max(region.x0, region.x1);
      const y1 = Math.max(region.y0, region.y1);
      return { bbox: [x0, y0, x1 - x0, y1 - y0], segmentation: [[x0, y0, x1, y0, x1, y1, x0, y1]], area: (x1 - x0) * (y1 - y0) };
    }
    case 'polygon': {
      const xs = region.points.map((p) => p.x);
      const ys = region.points.map((p) => p.y);
      const x0 = Math.min(...xs);
      const y0 = Math.min(...ys);
      return { bbox: [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0], segmentation: [region.points.flatMap((p) => [p.x, p.y])], area: shoelace(region.points) };
    }
    case 'point': {
      const { x, y } = region;
      return {
        bbox: [x - 0.5, y - 0.5, 1, 1],
        segmentation: [[x - 0.5, y - 0.5, x + 0.5, y - 0.5, x + 0.5, y + 0.5, x - 0.5, y + 0.5]],
        area: 1,
        keypoints: [x, y, 2],
        num_keypoints: 1,
      };
    }
  }
}

export function cocoDocument(manifest: Manifest): CocoDocument {
  const categoryId = new Map(manifest.labels.map((l, i) => [l.id, i + 1]));
  const annotations: Annotation[] = [];
  const images = manifest.cases.map((c, i) => {
    for (const review of c.reviews) {
      for (const region of review.regions) {
        const category = categoryId.get(region.labelId);
        if (category === undefined) continue;
        annotations.push({
          id: annotations.length + 1,
          image_id: i + 1,
          category_id: category,
          ...geometry(region),
          iscrowd: 0,
          attributes: { reader: review.reader, kind: region.kind, call: review.labels.find((l) => l.labelId === region.labelId)?.call ?? null },
        });
      }
    }
    return { id: i + 1, file_name: c.image ?? c.case, width: c.width, height: c.height };
  });
  return CocoDocument.parse({
    info: {
      description: `Resight reader annotations (${manifest.identified ? 'identified' : 'de-identified'}); models: ${manifest.models.map((m) => `${m.id} ${m.version}`).join(', ') || 'none'}`,
      version: manifest.app.version,
      date_created: manifest.exportedAt,
      contributor: manifest.readers.join(', '),
    },
    images,
    categories: manifest.labels.map((l, i) => ({ id: i + 1, name: l.id, supercategory: 'finding', keypoints: ['point'], skeleton: [] })),
    annotations,
  });
}
