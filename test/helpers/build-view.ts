/** vitest global setup: builds the console view (dist/mcp/app/console.html), which the server serves from its build. */
export default async function setup(): Promise<void> {
  // @ts-expect-error: a plain .mjs build script without type declarations
  const { buildView } = (await import('../../scripts/build-view.mjs')) as { buildView(): Promise<unknown> };
  await buildView();
}
