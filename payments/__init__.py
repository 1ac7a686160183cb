"""Payments: donations through Stripe, bank transfer and cash (built by the donations issue)."""
