import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by its SHA (EVALSHA): Redis neither receives nor hashes the text on every call.
 * The first call on a server that does not know it yet (a new server, a restart, SCRIPT FLUSH)
 * gets NOSCRIPT and is sent once with EVAL, which also caches it. (ioredis's defineCommand does
 * the same but adds untyped methods to the connection.)
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly lua: string,
    readonly numberOfKeys: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, ...keysAndArgs: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, this.numberOfKeys, ...keysAndArgs);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.lua, this.numberOfKeys, ...keysAndArgs);
    }
  }
}
