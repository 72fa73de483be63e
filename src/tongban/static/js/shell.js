/* The page shell: on a phone the main navigation folds behind the "菜单" button. Without
   JavaScript the navigation simply stays open (it wraps), so nothing depends on this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function ready() {
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
