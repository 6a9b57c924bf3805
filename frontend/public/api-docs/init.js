// Renders docs/openapi.yaml (served by the web server at /docs/openapi.yaml).
window.ui = SwaggerUIBundle({
  url: '/docs/openapi.yaml',
  dom_id: '#swagger-ui',
  deepLinking: true,
  withCredentials: true,
});
