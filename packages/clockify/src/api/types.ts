import type { paths } from './openapi.js';

/**
 * Types of requests and responses, derived from the generated `paths` so that the compiler
 * enforces what the spec requires (e.g. `include-roles` on the users list). Nothing here is
 * written by hand per operation.
 */

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
export type ApiPath = keyof paths;

type Defined<T> = Exclude<T, undefined>;
type IsNever<T> = [T] extends [never] ? true : false;

/** The operation object of `method path`, or never when the spec has no such operation. */
export type OperationOf<M extends HttpMethod, P extends ApiPath> =
  Defined<paths[P][Lowercase<M>]> extends infer Op ? (Op extends { responses: unknown } ? Op : never) : never;

/** Path templates that have an operation for `M`. */
export type PathsWith<M extends HttpMethod> = {
  [P in ApiPath]: IsNever<OperationOf<M, P>> extends true ? never : P;
}[ApiPath];

type ParamsOf<Op> = Op extends { parameters: infer X } ? X : never;
type Slot<Op, K extends string> = ParamsOf<Op> extends { [Q in K]?: infer X } ? Defined<X> : never;

export type PathParamsOf<Op> = Slot<Op, 'path'>;
export type QueryOf<Op> = Slot<Op, 'query'>;

/** The JSON request body; never for operations without one (or with a non-JSON one). */
export type JsonBodyOf<Op> = Op extends { requestBody?: infer B }
  ? Defined<B> extends { content: infer C }
    ? C extends { 'application/json': infer J }
      ? J
      : never
    : never
  : never;

type ContentOf<R> = R extends { content: infer C } ? C[keyof C] : undefined;
type ResponsesOf<Op> = Op extends { responses: infer R } ? R : never;

/** The body of the 200 response (201 when the operation has no 200; undefined for 204). */
export type ResponseData<Op> = 200 extends keyof ResponsesOf<Op>
  ? ContentOf<ResponsesOf<Op>[200 & keyof ResponsesOf<Op>]>
  : 201 extends keyof ResponsesOf<Op>
    ? ContentOf<ResponsesOf<Op>[201 & keyof ResponsesOf<Op>]>
    : undefined;

/** The workspace comes from the client (it is bound to one installation), never from callers. */
type CallerPathParams<Op> = Omit<PathParamsOf<Op>, 'workspaceId'>;

type PathInit<Op> =
  IsNever<PathParamsOf<Op>> extends true
    ? { path?: undefined }
    : keyof CallerPathParams<Op> extends never
      ? { path?: undefined }
      : { path: CallerPathParams<Op> };

type QueryInit<Q> = IsNever<Q> extends true ? { query?: undefined } : object extends Q ? { query?: Q } : { query: Q };

type BodyInit<Op> = Op extends { requestBody: unknown }
  ? IsNever<JsonBodyOf<Op>> extends true
    ? { body: never } // multipart uploads are not supported by this client
    : { body: JsonBodyOf<Op> }
  : IsNever<JsonBodyOf<Op>> extends true
    ? { body?: undefined }
    : { body?: JsonBodyOf<Op> };

interface CommonInit {
  /** Cancels the request (and its retries); the abort reason is rethrown as is. */
  readonly signal?: AbortSignal;
}

export type RequestInitOf<Op> = PathInit<Op> & QueryInit<QueryOf<Op>> & BodyInit<Op> & CommonInit;

/** `[init]` optional when nothing in it is required, so `client.request('GET', p)` compiles. */
export type ArgsOf<Init> = object extends Init ? [init?: Init] : [init: Init];

export interface ApiResponse<T> {
  readonly status: number;
  readonly data: T;
  readonly headers: Headers;
}

/** Query parameters the paginator sets itself. */
export type PagingParam = 'page' | 'page-size' | 'pageSize' | 'size' | 'limit';

type GetOp<P extends ApiPath> = OperationOf<'GET', P>;

/**
 * GET paths the paginator accepts: the spec declares `page` on them and their 200 body is an
 * array (the run-time check uses `PAGED_OPERATIONS`; spec-index.test.ts keeps both in step).
 */
export type PagedListPath = {
  [P in PathsWith<'GET'>]: 'page' extends keyof QueryOf<GetOp<P>>
    ? ResponseData<GetOp<P>> extends readonly unknown[]
      ? P
      : never
    : never;
}[PathsWith<'GET'>];

export type PageItem<P extends PagedListPath> = ResponseData<GetOp<P>> extends readonly (infer E)[] ? E : never;

export type PaginateParamsOf<P extends PagedListPath> = PathInit<GetOp<P>> &
  QueryInit<Omit<QueryOf<GetOp<P>>, PagingParam>> &
  CommonInit;
