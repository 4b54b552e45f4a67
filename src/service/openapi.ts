/** The OpenAPI 3.1 description of the HTTP API (served at GET /openapi.json). */

const error = { $ref: '#/components/responses/Error' };
const imageBody = {
  required: true,
  description: 'The image as the raw body (image/png or image/jpeg) or as a multipart file.',
  content: {
    'image/png': { schema: { type: 'string', format: 'binary' } },
    'image/jpeg': { schema: { type: 'string', format: 'binary' } },
    'multipart/form-data': { schema: { type: 'object', properties: { image: { type: 'string', format: 'binary' } } } },
  },
};
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const className = { name: 'name', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } };
const exampleId = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const bearer = [{ bearer: [] }];
/** Protected reads: FEWSHOT_READ_TOKEN or FEWSHOT_TOKEN when the server has either. */
const readBearer = [{ bearer: [] }, {}];
const busy = { description: 'The image work queue is full: retry after Retry-After seconds', headers: { 'Retry-After': { schema: { type: 'integer' } } } };

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'fewshot recognition service',
      version,
      description:
        'Enrol classes from a few example images and recognise new images against them. Writes need `Authorization: Bearer <FEWSHOT_TOKEN>` when the server has a token; gallery reads (listings, export, snapshot, embed) need FEWSHOT_READ_TOKEN or FEWSHOT_TOKEN when either is set. The Host header must name the server (DNS-rebinding protection). Image requests answer 503 with Retry-After when the work queue is full. Errors answer `{"error", "message"}` with a 4xx status.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: json({ type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, required: ['error', 'message'] }, 'Error'),
      },
      schemas: {
        Prediction: { type: 'object', properties: { class: { type: 'string' }, score: { type: 'number' } }, required: ['class', 'score'] },
        Face: {
          type: 'object',
          description: 'face models: the face used, its box in the uploaded image\'s pixels and the detector\'s confidence',
          properties: { box: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } } }, score: { type: 'number' } },
        },
        Example: {
          type: 'object',
          properties: { id: { type: 'integer' }, class: { type: 'string' }, sha256: { type: 'string' }, source: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
        },
      },
    },
    paths: {
      '/healthz': { get: { summary: 'Liveness: 200 once the model is loaded', responses: { 200: json({ type: 'object' }) } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain metrics' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: json({ type: 'object' }) } } },
      '/model/{file}': {
        get: {
          summary: 'The served model files (model.json, weights, fewshot.json) for in-browser inference',
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'file' }, 404: error },
        },
      },
      '/tfjs-wasm/{file}': {
        get: {
          summary: 'The TF.js wasm backend binaries the browser app runs models on (when WebGL is missing)',
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'application/wasm' }, 404: error },
        },
      },
      '/face-api/model/{file}': {
        get: {
          summary: 'Face models: @vladmandic/face-api weight manifests and shards (detector, landmarks, descriptor) for the browser app, from the server\'s node_modules',
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'file' }, 404: error },
        },
      },
      '/api/model': { get: { summary: 'Model metadata, threshold and gallery search mode', responses: { 200: json({ type: 'object' }) } } },
      '/api/classes': {
        get: {
          summary: 'List classes',
          security: readBearer,
          responses: { 200: json({ type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, examples: { type: 'integer' } } } }) },
        },
      },
      '/api/classes/{name}': {
        get: {
          summary: 'Examples of a class, and the decision stored with it (null: none)',
          security: readBearer,
          parameters: [className],
          responses: { 200: json({ type: 'object', properties: { name: { type: 'string' }, decision: { enum: ['wd', 'distance', null] }, examples: { type: 'array', items: { type: 'object' } } } }), 404: error },
        },
        delete: { summary: 'Delete a class and its examples', security: bearer, parameters: [className], responses: { 200: json({ type: 'object' }), 401: error, 404: error } },
      },
      '/api/classes/{name}/examples': {
        post: {
          summary: 'Enrol one image (raw body) or up to maxBatch images (multipart files) into a class, created if new. Face models enrol each photo\'s largest face (boxes in `faces`); a photo without a face: 422 and nothing is enrolled',
          description: "decision=wd|distance is stored with the class, in the same transaction as the examples: /api/classes/{name}/verify then uses it when the request names none (kept in the gallery across restarts and in its export).",
          security: bearer,
          parameters: [className, { name: 'decision', in: 'query', schema: { type: 'string', enum: ['wd', 'distance'] } }],
          requestBody: imageBody,
          responses: {
            201: json({ type: 'object', properties: { class: { type: 'string' }, id: { type: 'integer' }, ids: { type: 'array', items: { type: 'integer' } }, faces: { type: 'array', items: { $ref: '#/components/schemas/Face' } } }, required: ['class', 'id'] }, 'Enrolled'),
            400: error,
            401: error,
            413: error,
            415: error,
            422: error,
            503: busy,
          },
        },
      },
      '/api/classes/{name}/examples/{id}': {
        delete: { summary: 'Delete one example of a class', security: bearer, parameters: [className, exampleId], responses: { 200: json({ type: 'object' }), 404: error } },
      },
      '/api/examples/{id}': {
        delete: { summary: 'Delete one example', security: bearer, parameters: [exampleId], responses: { 200: json({ type: 'object' }), 404: error } },
      },
      '/api/predict': {
        post: {
          summary: 'Recognise an image: ranked classes and unknown. Face models: the largest face (its box in `face`), or every face with ?faces=all (`faces`: box and ranking each); 422 when the photo has no face',
          parameters: [
            { name: 'top', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
            { name: 'faces', in: 'query', schema: { enum: ['largest', 'all'] }, description: 'face models: which faces to recognise (default largest)' },
          ],
          requestBody: imageBody,
          responses: {
            200: json({
              type: 'object',
              properties: {
                predictions: { type: 'array', items: { $ref: '#/components/schemas/Prediction' } },
                unknown: { type: 'boolean' },
                threshold: { type: ['number', 'null'] },
                search: { enum: ['exact', 'hnsw'] },
                face: { $ref: '#/components/schemas/Face' },
                faces: { type: 'array', items: { type: 'object', description: 'with ?faces=all: { face, predictions, unknown, threshold, nearest, search } per face, largest first' } },
              },
            }),
            400: error,
            413: error,
            415: error,
            422: error,
            503: busy,
          },
        },
      },
      '/api/verify': {
        post: {
          summary: 'Are two images (multipart fields a and b) of the same class?',
          requestBody: {
            required: true,
            content: { 'multipart/form-data': { schema: { type: 'object', properties: { a: { type: 'string', format: 'binary' }, b: { type: 'string', format: 'binary' } }, required: ['a', 'b'] } } },
          },
          responses: { 200: json({ type: 'object', properties: { score: { type: 'number' }, same: { type: 'boolean' }, threshold: { type: ['number', 'null'] }, faces: { type: 'object', description: 'face models: { a: Face, b: Face }, the faces compared' } } }), 400: error, 422: error, 503: busy },
        },
      },
      '/api/classes/{name}/verify': {
        post: {
          summary: "Is this image the class's? (e.g. a questioned signature against a writer's references)",
          description:
            "decision=wd trains a classifier on the class's examples against the other classes' examples (writer-dependent, log-odds score); decision=distance uses the mean similarity to the class's examples. Without ?decision: the decision the class was enrolled with (?decision= on /examples), else the model's (fewshot.json `decision`, the one its cross-validation chose), else distance. `decisionFrom` says which.",
          parameters: [className, { name: 'decision', in: 'query', schema: { type: 'string', enum: ['wd', 'distance'] } }],
          requestBody: imageBody,
          responses: {
            200: json({
              type: 'object',
              properties: {
                class: { type: 'string' }, decision: { type: 'string' }, score: { type: 'number' }, same: { type: ['boolean', 'null'] },
                threshold: { type: ['number', 'null'] }, references: { type: 'integer' }, negatives: { type: 'integer' },
                decisionFrom: { enum: ['request', 'class', 'model', 'default'] },
              },
            }),
            400: error, 404: error, 409: error, 422: error,
          },
        },
      },
      '/api/embed': {
        post: { summary: 'Embeddings of one or more images', security: readBearer, requestBody: imageBody, responses: { 200: json({ type: 'object', properties: { embeddings: { type: 'array', items: { type: 'array', items: { type: 'number' } } } } }), 400: error, 401: error, 503: busy } },
      },
      '/api/gallery/snapshot': {
        get: { summary: 'All embeddings with their classes (small galleries only), for in-browser search', security: readBearer, responses: { 200: json({ type: 'object' }), 401: error } },
      },
      '/api/gallery/export': { get: { summary: 'The gallery as JSON (fewshot-gallery/1), streamed', security: readBearer, responses: { 200: json({ type: 'object' }), 401: error } } },
      '/api/gallery/import': {
        post: {
          summary: 'Import a gallery export (merge, or replace with ?replace=true)',
          security: bearer,
          parameters: [{ name: 'replace', in: 'query', schema: { type: 'boolean' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { 200: json({ type: 'object', properties: { classes: { type: 'integer' }, examples: { type: 'integer' } } }), 400: error, 401: error },
        },
      },
    },
  };
}
