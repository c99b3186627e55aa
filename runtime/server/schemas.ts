/**
 * JSON schemas of the device routes (runtime/server/PROTOCOL.md), checked by fastify's ajv before a
 * handler runs. Strict: no extra properties, no type coercion, lengths bounded, so a malformed body
 * is a 400 naming the field and never reaches the database. The one exception is the incident inside
 * an alert, which may carry fields this server does not know yet: an alert is the one message that
 * must never be refused for being newer than the server (its known fields are still checked, and only
 * those are stored).
 */

/** A device id as devices make them (`dev-…`) or staff bind them; no slashes, spaces or control characters. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

const shortText = (max = 200) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/** `:deviceId` in every device route. */
export const deviceParams = {
  type: 'object',
  required: ['deviceId'],
  properties: { deviceId: { type: 'string', pattern: DEVICE_ID_PATTERN } },
} as const;

/** `POST /api/v1/enroll`. */
export const enrollBody = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'deviceId', 'hearthVersion'],
  properties: {
    code: shortText(64),
    deviceId: { type: 'string', pattern: DEVICE_ID_PATTERN },
    hearthVersion: shortText(64),
  },
} as const;

/** `POST /api/v1/devices/:deviceId/heartbeat`: every field required, null where unknown. */
export const heartbeatBody = {
  type: 'object',
  additionalProperties: false,
  required: ['tsUtc', 'deviceClockMs', 'clockSource', 'clockOffsetMs', 'hearthVersion', 'protocolHash', 'freeDiskBytes', 'dbBytes',
    'lastSession', 'perception', 'safeguards', 'alertOutbox', 'uplinkBacklogRows'],
  properties: {
    tsUtc: shortText(40),
    deviceClockMs: { type: 'integer', minimum: 0, maximum: 8.64e15 },
    clockSource: shortText(32),
    clockOffsetMs: nullable({ type: 'integer', minimum: -8.64e15, maximum: 8.64e15 }),
    hearthVersion: shortText(64),
    protocolHash: nullable(shortText(128)),
    freeDiskBytes: nullable(count),
    dbBytes: nullable(count),
    lastSession: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['sessionId', 'status', 'tsUtc'],
      properties: { sessionId: shortText(128), status: shortText(32), tsUtc: shortText(40) },
    }),
    perception: shortText(200),
    safeguards: shortText(200),
    alertOutbox: count,
    uplinkBacklogRows: count,
  },
} as const;

/** `POST /api/v1/devices/:deviceId/alerts`: the `AlertEnvelope` of behaviors/safeguards/alert-outbox.ts. */
export const alertBody = {
  type: 'object',
  additionalProperties: false,
  required: ['hearthAlert', 'deviceId', 'incident'],
  properties: {
    hearthAlert: { const: 1 },
    deviceId: { type: 'string', pattern: DEVICE_ID_PATTERN },
    incident: {
      type: 'object',
      required: ['incidentId', 'kind', 'severity', 'eventDate'],
      properties: {
        incidentId: shortText(128),
        kind: shortText(64),
        severity: shortText(32),
        deviceId: { type: 'string', pattern: DEVICE_ID_PATTERN },
        participantId: nullable(shortText(128)),
        sessionId: nullable(shortText(128)),
        eventDate: shortText(40),
        reportDueBy: nullable(shortText(40)),
        checks: { type: 'array', maxItems: 100 },
      },
    },
  },
} as const;

/** Headers of `POST /api/v1/devices/:deviceId/batches` (the body is checked as a file, not as JSON). */
export const batchHeaders = {
  type: 'object',
  required: ['content-encoding', 'x-hearth-batch'],
  properties: {
    'content-encoding': { type: 'string', const: 'gzip' },
    'x-hearth-batch': { type: 'string', pattern: '^[0-9]{1,16}-[0-9]{1,16}$' },
  },
} as const;

/** The idempotency header of the alerts route. */
export const alertHeaders = {
  type: 'object',
  required: ['idempotency-key'],
  properties: { 'idempotency-key': shortText(128) },
} as const;
