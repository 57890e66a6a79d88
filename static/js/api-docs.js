/* Starts Swagger UI on the /docs page (no inline script: the CSP forbids it).
 * "Try it out" from a browser that is logged in sends the session cookie, so state-changing
 * calls carry this browser's CSRF token (calls with a bearer token do not need it). */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  var csrfToken = "";
  fetch("/session/csrf", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : {}; })
    .then(function (body) { csrfToken = body.csrf_token || ""; })
    .catch(function () {});
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      if (csrfToken && request.headers) request.headers["X-CSRF-Token"] = csrfToken;
      return request;
    }
  });
})();
