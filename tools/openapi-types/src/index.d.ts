/** The `paths`, `components` and `operations` types of an OpenAPI 3.x document, as module text. */
export function generateTypes(document: object): Promise<string>;
