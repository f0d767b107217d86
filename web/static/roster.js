// Roster's only script of its own: progressive enhancement, the pages work without it.
// A select marked data-autosubmit sends its form as soon as a choice is made.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.requestSubmit();
  }
});

// Passkeys (WebAuthn need a script): a form marked data-passkey="create" or "get" asks the
// server for options (data-options), lets the browser create or use a passkey, puts the
// answer in the form's hidden "credential" field and sends the form as usual.
(function () {
  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fail(form, message) {
    var box = form.querySelector("[data-passkey-error]");
    if (box) { box.textContent = message; box.hidden = false; }
  }
  async function run(form) {
    var csrf = form.querySelector("input[name=csrf]").value;
    var res = await fetch(form.getAttribute("data-options"), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf },
      body: "csrf=" + encodeURIComponent(csrf),
      credentials: "same-origin"
    });
    var body = await res.json();
    if (!res.ok) { fail(form, body.error || res.statusText); return; }
    var pk = body.publicKey, answer;
    pk.challenge = toBytes(pk.challenge);
    if (form.getAttribute("data-passkey") === "create") {
      pk.user.id = toBytes(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      var made = await navigator.credentials.create({ publicKey: pk });
      answer = {
        id: made.id, rawId: toText(made.rawId), type: made.type, extensions: {},
        response: {
          attestationObject: toText(made.response.attestationObject),
          clientDataJSON: toText(made.response.clientDataJSON)
        }
      };
    } else {
      (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      var used = await navigator.credentials.get({ publicKey: pk });
      answer = {
        id: used.id, rawId: toText(used.rawId), type: used.type, extensions: {},
        response: {
          authenticatorData: toText(used.response.authenticatorData),
          clientDataJSON: toText(used.response.clientDataJSON),
          signature: toText(used.response.signature),
          userHandle: used.response.userHandle ? toText(used.response.userHandle) : null
        }
      };
    }
    form.querySelector("input[name=credential]").value = JSON.stringify(answer);
    form.submit();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-passkey-start]");
    if (!button) return;
    var form = button.closest("form[data-passkey]");
    if (!form) return;
    if (!window.PublicKeyCredential) { fail(form, "WebAuthn is not available in this browser."); return; }
    button.disabled = true;
    run(form).catch(function (e) { fail(form, e.message || String(e)); })
      .finally(function () { button.disabled = false; });
  });
})();
