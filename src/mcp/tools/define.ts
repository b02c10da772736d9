/** The shape of one tool: its contract (names, schemas, annotations) and a thin adapter onto the call core. */
import type { z } from 'zod';
import type { CallCore } from '../../core/call-core.js';
import type { OperationContext } from '../../core/parts.js';
import type { Scope } from '../rights.js';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  /** The OAuth scope a connection needs to see and call this tool; --read-only exposes only calls:read tools. */
  scope: Scope;
  /** Calls the core's operation; its result is the tool's structuredContent. */
  run(core: CallCore, args: z.output<z.ZodObject<I>>, context: OperationContext): Promise<z.output<z.ZodObject<O>>>;
}

/** Identity function that lets TypeScript infer a tool's argument and result types from its schemas. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(tool: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return tool;
}
