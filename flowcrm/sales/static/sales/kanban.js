// Kanban drag and drop: HTML5 drag events move the card at once, htmx posts the move, the
// server answers with the card and both columns' headers (out-of-band swaps). A refused move
// (4xx/5xx or no connection) puts the card back where it was and shows the server's reason.
(function () {
  "use strict";
  const board = document.querySelector("[data-kanban]");
  if (!board) return;
  const message = document.getElementById("board-message");
  const pending = new WeakMap(); // card -> function that restores it
  let dragged = null;

  board.addEventListener("dragstart", function (event) {
    const card = event.target.closest(".deal");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.dealId);
  });

  board.addEventListener("dragover", function (event) {
    const column = event.target.closest(".column");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.add("drop-target");
  });

  board.addEventListener("dragleave", function (event) {
    const column = event.target.closest(".column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });

  board.addEventListener("drop", function (event) {
    const column = event.target.closest(".column");
    const card = dragged;
    dragged = null;
    if (!column || !card) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    const origin = card.parentElement;
    if (origin.closest(".column") === column) return;
    const next = card.nextSibling;
    pending.set(card, function () { origin.insertBefore(card, next); });
    column.querySelector(".cards").prepend(card);
    message.textContent = "";
    const url = board.dataset.moveUrl.replace("/0/", "/" + card.dataset.dealId + "/");
    htmx.ajax("POST", url, {
      source: card,
      target: card,
      swap: "outerHTML",
      values: { stage_id: column.dataset.stageId },
    });
  });

  function refuse(event) {
    const card = event.detail.elt;
    const restore = card && pending.get(card);
    if (!restore) return;
    pending.delete(card);
    restore();
    const xhr = event.detail.xhr;
    message.textContent = (xhr && xhr.responseText) || "The deal could not be moved.";
  }
  document.body.addEventListener("htmx:responseError", refuse);
  document.body.addEventListener("htmx:sendError", refuse);
})();
