// The Stripe Payment Element: one-off gifts confirm a PaymentIntent; monthly gifts make a
// PaymentMethod that the server attaches to a Subscription. Our server, told by Stripe's
// webhook, decides whether the gift succeeded; this page only carries the card to Stripe.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") return;
  const stripe = Stripe(form.dataset.key);
  const error = document.getElementById("card-error");
  const subscription = form.dataset.mode === "subscription";
  const elements = subscription
    ? stripe.elements({ mode: "subscription", amount: Number(form.dataset.amount), currency: "eur" })
    : stripe.elements({ clientSecret: form.dataset.secret });
  elements.create("payment").mount("#payment-element");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector("button").disabled = true;
    error.textContent = "";
    let failure;
    if (subscription) {
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
          failure = { message: body.error };
        }
      }
    } else {
      failure = (await stripe.confirmPayment({
        elements, confirmParams: { return_url: form.dataset.return },
      })).error;
    }
    error.textContent = failure ? failure.message : "";
    form.querySelector("button").disabled = false;
  });
});
