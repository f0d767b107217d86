// Roster's only script of its own: progressive enhancement, the pages work without it.
// A select marked data-autosubmit sends its form as soon as a choice is made.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.requestSubmit();
  }
});
