/* The page shell: on a phone the main navigation folds behind the "菜单" button. Without
   JavaScript the navigation simply stays open (it wraps), so nothing depends on this file.
   Pages carry no inline script (the Content-Security-Policy allows none): a button marked
   data-print prints the page; a form's button marked data-once ignores a second click while the
   first submission is on its way (the server also answers a repeated submission the same). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function behaviours() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("button[data-once]");
        if (button) { setTimeout(function () { button.disabled = true; }, 0); }
      });
    });
  }
  function ready() {
    behaviours();
    var button = document.querySelector(".menu-toggle");
    var nav = document.getElementById("site-nav");
    if (!button || !nav) { return; }
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("folded", !open);
    }
    set(false);
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
