import Type from 'typebox';
import { ID_PATTERN } from '../domain/index.ts';

/** Pattern every tenant, business unit, site and agent id must match, as TypeBox takes it. */
export const ID_PATTERN_SOURCE = ID_PATTERN.source;

/**
 * Site id the node keeps for itself: the lane of input no configured site owns. A configured
 * site may not use it.
 */
export const UNROUTED_SITE_ID = '__unrouted';

/** Most replicas a JetStream stream can have. */
export const MAX_STREAM_REPLICAS = 5;

const Id = Type.String({ pattern: ID_PATTERN_SOURCE });
const NonEmpty = Type.String({ minLength: 1 });
const NonNegativeInt = Type.Integer({ minimum: 0 });
const closed = { additionalProperties: false } as const;

/** One site: a Stat Server time profile and the agents it reports on. */
export const SiteConfigSchema = Type.Object(
  {
    id: Id,
    name: Type.String(),
    timeZone: NonEmpty,
    intervalMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
    offsetMinutes: NonNegativeInt,
    statServer: Type.String(),
  },
  closed,
);

/** A business unit groups sites; it can be restarted as a whole. */
export const BusinessUnitConfigSchema = Type.Object(
  { id: Id, name: Type.String(), sites: Type.Array(SiteConfigSchema) },
  closed,
);

/** Real-time adherence options (Genesys Cloud semantics). */
export const AdherenceConfigSchema = Type.Object(
  { adherenceExceptionThresholdSeconds: NonNegativeInt, nonOnQueueActivitiesEquivalent: Type.Boolean() },
  closed,
);

/** The `streams` section: how the node creates the contract's streams when they are missing. */
export const StreamsConfigSchema = Type.Object(
  { replicas: Type.Integer({ minimum: 1, maximum: MAX_STREAM_REPLICAS }) },
  closed,
);

/**
 * The resolved configuration, after defaults, environment and CLI overrides (DESIGN.md
 * "Configuration"). Every key is present except `tenant.password` and `nodeId`.
 */
export const WfmConfigSchema = Type.Object(
  {
    tenant: Type.Object({ id: Id, password: Type.Optional(Type.String()) }, closed),
    /** Not in the file format of DESIGN.md; carries `--node-id` so the whole node setup is one value. */
    nodeId: Type.Optional(Id),
    nats: Type.Object({ servers: Type.Array(NonEmpty, { minItems: 1 }) }, closed),
    dataDir: NonEmpty,
    reasonCodeKeyName: NonEmpty,
    mappedReasons: Type.Array(NonEmpty),
    dbDumpFile: NonEmpty,
    dbRetrySeconds: NonNegativeInt,
    database: Type.Union([Type.Null(), NonEmpty]),
    leaseSeconds: Type.Integer({ minimum: 1 }),
    /** Hot backups per site (0: none). */
    standbyReplicas: NonNegativeInt,
    /** Replicas of the streams the node creates (an existing stream keeps its own). */
    streams: StreamsConfigSchema,
    adherence: AdherenceConfigSchema,
    businessUnits: Type.Array(BusinessUnitConfigSchema),
  },
  closed,
);

/** The resolved wfm-aggregator configuration. */
export type WfmConfig = Type.Static<typeof WfmConfigSchema>;
/** One configured site. */
export type SiteConfig = Type.Static<typeof SiteConfigSchema>;
/** One configured business unit. */
export type BusinessUnitConfig = Type.Static<typeof BusinessUnitConfigSchema>;
/** The `adherence` section. */
export type AdherenceConfig = Type.Static<typeof AdherenceConfigSchema>;
/** The `streams` section. */
export type StreamsConfig = Type.Static<typeof StreamsConfigSchema>;

/** Every key optional, recursively; arrays are replaced, not merged. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Overrides from CLI flags (or tests): any subset of the configuration. */
export type ConfigOverrides = DeepPartial<WfmConfig>;
