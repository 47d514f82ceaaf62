/**
 * The Kafka start check (DESIGN.md §3.2): before a consumer group reads, every partition must
 * still hold the messages right after the target's merged offset, and the group must not have
 * committed past it. Otherwise the consumer would start silently at what is available and the
 * target would never get the changes in between.
 *
 * - retention (or `kafka-delete-records`, or compaction of a deleted key's history) moved the
 *   partition's log start offset past the target's next offset: BROKER_RETENTION_GAP;
 * - the target merged an offset the partition never reached (the topic was deleted and
 *   re-created): BROKER_TARGET_AHEAD;
 * - the group committed past the target's next offset (the target was restored from a backup, or
 *   another pipeline shares the group id): KAFKA_GROUP_AHEAD. The messages are still there, so
 *   resetting the group's offsets to the target's position is enough. The consumer reads from
 *   the target's offsets ({@link kafkaStartOffsets}), so nothing would be skipped by this
 *   process; the stop is for the other consumer the offsets point to, which would share the
 *   group's partitions with this one.
 *
 * A partition the target never merged is read from the group's offset, or from the start: there
 * the group must not have committed past the log start offset either.
 */
import { CdcError } from '../../errors.js';

/** What the check knows of one partition. */
export interface KafkaPartitionFacts {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the last message the target merged from it (undefined: none). */
  readonly merged?: bigint;
  /** The group's committed offset, the next it would read (undefined: none committed). */
  readonly committed?: bigint;
  /** The partition's log start offset (earliest) and log end offset (next to be written). */
  readonly logStart: bigint;
  readonly logEnd: bigint;
}

/** The group, the brokers and the pipeline, for messages and remedies. */
export interface KafkaStartContext {
  readonly groupId: string;
  readonly brokers: readonly string[];
  readonly pipeline: string;
}

/** Partitions named in one message before `…`. */
const MAX_NAMED = 5;

/**
 * Throws when a consumer of `context.groupId` starting now would skip messages the target has
 * not merged (see the module comment).
 * @throws {CdcError} BROKER_RETENTION_GAP, BROKER_TARGET_AHEAD, KAFKA_GROUP_AHEAD, each naming the
 *   partitions and offsets, and the resync or the offset reset that fixes it.
 */
export function checkKafkaStart(partitions: readonly KafkaPartitionFacts[], context: KafkaStartContext): void {
  const name = (p: KafkaPartitionFacts) => `${p.topic}/${p.partition}`;
  const list = (items: string[]) => items.slice(0, MAX_NAMED).join('; ') + (items.length > MAX_NAMED ? `; … (${items.length} partitions)` : '');
  const ahead = partitions.filter((p) => p.merged !== undefined && p.merged >= p.logEnd);
  if (ahead.length > 0) {
    throw new CdcError(
      'BROKER_TARGET_AHEAD',
      `the target has merged Kafka offsets the partitions never reached: ${list(ahead.map((p) => `${name(p)} merged up to offset ${p.merged}, but its log ends at ${p.logEnd}`))}; the topic was deleted and re-created (or the target belongs to other topics), so its new messages would all be skipped`,
      {
        remedy: `resync into fresh target tables: replay the topics from their start with a new --name (pipeline ${context.pipeline} keeps its rows in cdc_management.offsets and cdc_management.watermarks), or point debezium.kafka at the topics the target came from`,
        context: { partitions: ahead.map(name) },
      },
    );
  }
  const gaps = partitions.filter((p) => p.merged !== undefined && p.merged + 1n < p.logStart);
  if (gaps.length > 0) {
    const described = gaps.map((p) => `${name(p)}: the target merged up to offset ${p.merged}, the log starts at ${p.logStart} (offsets ${p.merged! + 1n} to ${p.logStart - 1n} are gone)`);
    const accept = gaps
      .slice(0, MAX_NAMED)
      .map((p) => `UPDATE cdc_management.offsets SET position = ${p.logStart - 1n} WHERE pipeline = '${context.pipeline}' AND source_partition = '${name(p)}'`)
      .join('; ');
    throw new CdcError(
      'BROKER_RETENTION_GAP',
      `Kafka no longer holds the messages after the target's position (retention or deleted records removed them before they were merged): ${list(described)}`,
      {
        remedy:
          `resync: have Debezium take a new snapshot of the tables (a new connector, or an ad hoc snapshot signal) and merge it into fresh target tables with a new --name; ` +
          `or accept the gap knowingly: ${accept}`,
        context: { partitions: gaps.map(name) },
      },
    );
  }
  const group = partitions.filter((p) => p.committed !== undefined && p.committed > (p.merged === undefined ? p.logStart : p.merged + 1n));
  if (group.length > 0) {
    const described = group.map((p) => `${name(p)}: the group committed offset ${p.committed}, the target ${p.merged === undefined ? 'merged nothing of it' : `merged up to ${p.merged}`}`);
    const resets = group
      .slice(0, MAX_NAMED)
      .map((p) => `--topic ${p.topic}:${p.partition} --to-offset ${p.merged === undefined ? p.logStart : p.merged + 1n}`)
      .join(' ');
    throw new CdcError(
      'KAFKA_GROUP_AHEAD',
      `consumer group ${JSON.stringify(context.groupId)} has committed past what the target holds (was the target restored from a backup, or does another pipeline use this group? Two consumers of one group split its partitions between them): ${list(described)}`,
      {
        remedy:
          `with cdc run stopped, move the group back to the target's position (the messages are still in Kafka): ` +
          `kafka-consumer-groups.sh --bootstrap-server ${context.brokers.join(',')} --group ${context.groupId} --reset-offsets ${resets} --execute` +
          (group.length > MAX_NAMED ? ' (and likewise for the other partitions named)' : '') +
          `; or resync into fresh target tables with a new --name`,
        context: { groupId: context.groupId, partitions: group.map(name) },
      },
    );
  }
}

/** Where a consumer starts reading one partition. */
export interface KafkaStartOffset {
  readonly topic: string;
  readonly partition: number;
  /** The first offset to fetch. */
  readonly offset: bigint;
}

/**
 * Where to start each partition once {@link checkKafkaStart} let the start through: right after
 * the target's merged offset, or at the log start offset where the target merged nothing of the
 * partition. The group's committed offset is not used: the target is the checkpoint
 * (DESIGN.md §3.2). A group behind the target (a lost commit, or the offsets reset in the remedy
 * of BROKER_RETENTION_GAP) may point below the log start, where a fetch fails with
 * OFFSET_OUT_OF_RANGE on every try; and a group whose offsets expired
 * (`offsets.retention.minutes`) would re-read the whole partition.
 */
export function kafkaStartOffsets(partitions: readonly KafkaPartitionFacts[]): KafkaStartOffset[] {
  return partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.merged === undefined ? p.logStart : p.merged + 1n }));
}
