// The Stripe Payment Element: one-off gifts confirm a PaymentIntent; monthly gifts make a
// PaymentMethod that the server attaches to a Subscription. Our server, told by Stripe's
// webhook, decides whether the gift succeeded; this page only carries the card to Stripe.
//
// The pay button stays disabled until the card field is ready. When Stripe.js did not load
// (blocked, offline), the card field fails to load or does not appear within 15 s, or Stripe
// answers an error other than a card the donor can correct, the page shows #card-fallback:
// a message and, for a one-off gift, the one-click switch to a bank transfer.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("card-form");
  if (!form) return;
  const error = document.getElementById("card-error");
  const button = form.querySelector("button[type=submit]");
  const loading = document.getElementById("card-loading");

  const unavailable = (message) => {
    const fallback = document.getElementById("card-fallback");
    if (loading) loading.remove();
    if (message) error.textContent = message;
    button.disabled = true;
    if (fallback) {
      fallback.hidden = false;
      const action = fallback.querySelector("button, a");
      if (action) action.focus();
    }
  };

  if (typeof Stripe === "undefined") { unavailable(); return; }
  let stripe, elements;
  try {
    stripe = Stripe(form.dataset.key);
    const subscription = form.dataset.mode === "subscription";
    elements = subscription
      ? stripe.elements({ mode: "subscription", amount: Number(form.dataset.amount), currency: "eur" })
      : stripe.elements({ clientSecret: form.dataset.secret });
    const element = elements.create("payment");
    const slow = setTimeout(() => unavailable(), 15000);
    element.on("ready", () => {
      clearTimeout(slow);
      if (loading) loading.remove();
      button.disabled = false;
    });
    element.on("loaderror", (event) => {
      clearTimeout(slow);
      unavailable(event && event.error ? event.error.message : "");
    });
    element.mount("#payment-element");
  } catch (failure) {
    unavailable();
    return;
  }

  // Errors the donor fixes in the card field itself; any other means Stripe cannot take it.
  const correctable = (failure) => failure.type === "validation_error" || failure.type === "card_error";

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    let failure;
    try {
      if (form.dataset.mode === "subscription") {
        failure = (await elements.submit()).error;
        if (!failure) {
          const made = await stripe.createPaymentMethod({ elements });
          failure = made.error;
          if (!failure) {
            const response = await fetch(form.dataset.subscribe, {
              method: "POST",
              headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf },
              body: JSON.stringify({ payment_method: made.paymentMethod.id }),
            });
            const body = await response.json();
            if (response.ok) { window.location = form.dataset.return; return; }
            failure = { type: "api_error", message: body.error };
          }
        }
      } else {
        failure = (await stripe.confirmPayment({
          elements, confirmParams: { return_url: form.dataset.return },
        })).error;
      }
    } catch (thrown) {
      failure = { type: "api_connection_error", message: "" };
    }
    if (!failure) return;
    error.textContent = failure.message || "";
    if (correctable(failure)) {
      button.disabled = false;
      const fallback = document.getElementById("card-fallback");
      if (failure.type === "card_error" && fallback) fallback.hidden = false;
    } else {
      unavailable(failure.message);
    }
  });
});
