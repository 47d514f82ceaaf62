/**
 * What a failed S3 request means for the pipeline: a {@link CdcError} with a code, a remedy and
 * whether trying again later may succeed. Classified by the HTTP status and S3 error code the
 * AWS SDK puts on its exceptions (`$metadata.httpStatusCode`, `name`); a failure without an HTTP
 * response is a network failure.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
import { CdcError } from '../../errors.js';
import { redactText } from '../../redact.js';

/** Where a request went, for messages. Never holds a credential. */
export interface S3RequestPlace {
  /** `read`, `write`, `create`, `list`, `delete`. */
  readonly operation: string;
  /** `s3://bucket/key` of the object or prefix. */
  readonly url: string;
  readonly bucket: string;
  /** The endpoint as configured, or `AWS` for Amazon S3's own. */
  readonly endpoint: string;
}

/** Socket errors of a connection that never opened: the endpoint is unreachable. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
/** S3 error codes that mean the credentials, not the request, are wrong. */
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'CredentialsProviderError']);

/** The HTTP status of an SDK exception, or undefined when no response came. */
export function httpStatus(error: unknown): number | undefined {
  if (error && typeof error === 'object' && '$metadata' in error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    if (typeof metadata?.httpStatusCode === 'number') return metadata.httpStatusCode;
  }
  return undefined;
}

/** The S3 error code of an SDK exception (`NoSuchBucket`, `AccessDenied`, …) or a Node error code. */
export function s3ErrorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { Code?: unknown; code?: unknown; name?: unknown };
    for (const value of [e.Code, e.code, e.name]) if (typeof value === 'string' && value !== '' && value !== 'Error') return value;
  }
  return 'Error';
}

/**
 * The {@link CdcError} for a failed request:
 * - no HTTP response: `CONNECTION_FAILED` when the connection never opened (refused, unknown
 *   host), else `CONNECTION_LOST` (reset, timed out); both retryable;
 * - HTTP 5xx, `SlowDown`, `RequestTimeout`: `TARGET_UNAVAILABLE`, retryable (the SDK has already
 *   retried it with backoff);
 * - wrong credentials, `AccessDenied`, `NoSuchBucket` and any other answer: `TARGET_UNWRITABLE`
 *   naming the bucket and the endpoint, with a remedy for the case.
 *
 * The message holds the S3 error code, the HTTP status and S3's message (redacted with
 * `redactText`); the SDK's exception is the cause. Credentials are never part of either.
 */
export function s3Failure(error: unknown, place: S3RequestPlace): CdcError {
  const status = httpStatus(error);
  const code = s3ErrorCode(error);
  const detail = redactText(error instanceof Error ? error.message : String(error));
  const where = `${place.url} (endpoint ${redactText(place.endpoint)})`;
  const context = { bucket: place.bucket, endpoint: redactText(place.endpoint), operation: place.operation, s3Code: code, httpStatus: status };
  if (status === undefined && (CONNECT_CODES.has(code) || /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(detail))) {
    return new CdcError('CONNECTION_FAILED', `cannot connect to the S3 endpoint to ${place.operation} ${where}: ${code}: ${detail}`, {
      cause: error,
      context,
      retryable: true,
      remedy: 'check the storage endpoint (host, port, http or https) and that the server runs; cdc-merge retries with backoff',
    });
  }
  if (status === undefined && !CREDENTIAL_CODES.has(code) && code !== 'Error') {
    return new CdcError('CONNECTION_LOST', `lost the connection to the S3 endpoint while trying to ${place.operation} ${where}: ${code}: ${detail}`, {
      cause: error,
      context,
      retryable: true,
      remedy: 'cdc-merge retries with backoff from the merged position; if it persists, check the server and the network',
    });
  }
  const answer = `${code}${status === undefined ? '' : ` (HTTP ${status})`}: ${detail}`;
  if ((status !== undefined && status >= 500) || code === 'SlowDown' || code === 'RequestTimeout') {
    return new CdcError('TARGET_UNAVAILABLE', `S3 could not ${place.operation} ${where} for now: ${answer}`, {
      cause: error,
      context,
      retryable: true,
      remedy: 'nothing, if it passes: cdc-merge retries with backoff; else check the object store',
    });
  }
  let remedy: string;
  if (CREDENTIAL_CODES.has(code)) {
    remedy = 'check storage.access_key_id and storage.secret_access_key (or the AWS credentials in the environment) and the storage.region';
  } else if (code === 'NoSuchBucket') {
    remedy = `create the bucket ${place.bucket} at this endpoint, or fix the bucket in the target location`;
  } else if (code === 'AccessDenied' || code === 'AllAccessDisabled' || status === 403) {
    remedy = `allow these credentials s3:ListBucket on bucket ${place.bucket} and s3:GetObject, s3:PutObject and s3:DeleteObject on its objects under the location's prefix`;
  } else if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || code === 'IllegalLocationConstraintException') {
    remedy = `set storage.region to the region of bucket ${place.bucket}`;
  } else {
    remedy = 'check the target location, the storage settings and the object store; the message has its answer';
  }
  return new CdcError('TARGET_UNWRITABLE', `S3 refused to ${place.operation} ${where}: ${answer}`, { cause: error, context, remedy });
}
