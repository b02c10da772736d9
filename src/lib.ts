/**
 * The package entry for in-process users (agent frameworks, custom transports): one call core per process
 * (createCallCore) and an MCP server per connection on it (createServer), or createServer({ config }) for a
 * single connection with a private core.
 */
export { createServer, type CreateServerOptions, type VapiCallServer } from './mcp/server.js';
export { CallCore, createCallCore, type CallCoreOptions } from './core/call-core.js';
export { CallError, type CallFailure } from './core/errors.js';
export type { ConfirmOutcome, OperationContext } from './core/parts.js';
export type { Config } from './config.js';
export { loadConfig, ConfigError } from './config.js';
export { VERSION } from './version.js';
