// The part of s3rver 3.7 (CommonJS, no types of its own) that tests/helpers/s3-server.ts uses.
declare module "s3rver" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  interface S3rverOptions {
    /** Where buckets and objects are kept. */
    directory?: string;
    silent?: boolean;
    /** Off: buckets only in the path, as forcePathStyle clients send them. */
    vhostBuckets?: boolean;
    allowMismatchedSignatures?: boolean;
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    /** The Koa request handler, for a server of one's own. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
  }

  export = S3rver;
}
