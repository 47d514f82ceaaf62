/**
 * The pipeline checkpoint as JSON, as the Delta sink stores it in commitInfo, the batch log and
 * its state files: positions with their 64-bit values as decimal strings, watermarks with their
 * row positions as hexadecimal.
 */
import { watermarkKey, type Checkpoint, type PartitionPosition, type Watermark } from '../../events/checkpoint.js';
import { positionFromHex, positionHex } from '../../events/position.js';

/** The JSON form of a checkpoint. */
export interface CheckpointJson {
  readonly positions: readonly { readonly partition: string; readonly position: string; readonly text: string }[];
  readonly watermarks: readonly { readonly partition: string; readonly origin: string; readonly position: string; readonly text: string }[];
}

/** A checkpoint as JSON. */
export function checkpointToJson(checkpoint: Checkpoint): CheckpointJson {
  return {
    positions: [...checkpoint.positions.values()].map((p) => ({ partition: p.partition, position: p.position.toString(), text: p.text })),
    watermarks: [...checkpoint.watermarks.values()].map((w) => ({ partition: w.partition, origin: w.origin, position: positionHex(w.position), text: w.text })),
  };
}

/** A checkpoint from its JSON form. */
export function checkpointFromJson(json: CheckpointJson): Checkpoint {
  const positions = new Map<string, PartitionPosition>();
  for (const p of json.positions) positions.set(p.partition, { partition: p.partition, position: BigInt(p.position), text: p.text });
  const watermarks = new Map<string, Watermark>();
  for (const w of json.watermarks) {
    const watermark = { partition: w.partition, origin: w.origin, position: positionFromHex(w.position), text: w.text };
    watermarks.set(watermarkKey(watermark), watermark);
  }
  return { positions, watermarks };
}

/** `base` moved by `update`: each position and watermark replaced where the update has one. */
export function advance(base: Checkpoint, update: { readonly positions: readonly PartitionPosition[]; readonly watermarks: readonly Watermark[] }): Checkpoint {
  const positions = new Map(base.positions);
  for (const p of update.positions) positions.set(p.partition, p);
  const watermarks = new Map(base.watermarks);
  for (const w of update.watermarks) watermarks.set(watermarkKey(w), w);
  return { positions, watermarks };
}
