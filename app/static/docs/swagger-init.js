// Starts Swagger UI on /docs. A file rather than an inline script, so the page keeps the
// API's strict Content-Security-Policy (scripts from its own origin only).
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
