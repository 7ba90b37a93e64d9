// TypeScript types for a client of an OpenAPI document (openapi-typescript), kept apart from the
// workspace: openapi-typescript prints with the TypeScript 5 compiler API, which TypeScript 7 lacks.
import openapiTS, { astToString } from 'openapi-typescript';

/**
 * The `paths`, `components` and `operations` types of an OpenAPI 3.x document, as module text.
 * @param {object} document the OpenAPI document (parsed JSON)
 * @returns {Promise<string>}
 */
export async function generateTypes(document) {
  const nodes = await openapiTS(/** @type {never} */ (document));
  return astToString(nodes);
}
