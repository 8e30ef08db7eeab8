// Records on <html> how many errors the page met (script errors, failed loads, console errors and warnings),
// for the documentation tests that open the site in headless Chromium: data-errors and data-error-text.
(function () {
  var root = document.documentElement, errors = [];
  function note(text) {
    errors.push(String(text));
    root.setAttribute("data-errors", String(errors.length));
    root.setAttribute("data-error-text", errors.join(" | "));
  }
  ["error", "warn"].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      note(level + ": " + Array.prototype.join.call(arguments, " "));
      return original.apply(console, arguments);
    };
  });
  window.addEventListener("error", function (event) {
    note(event.message || ("failed to load " + (event.target && (event.target.src || event.target.href))));
  }, true);
  window.addEventListener("unhandledrejection", function (event) { note("unhandled: " + event.reason); });
  window.addEventListener("load", function () { root.setAttribute("data-errors", String(errors.length)); });
})();
