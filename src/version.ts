/** The API's version (OpenAPI, /health, --version); one module of its own so the CLI can show it without loading the server. */
export const API_VERSION = '0.1.0';
