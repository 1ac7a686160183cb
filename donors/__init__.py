"""Donors: the CRM (built by the donations and CRM issues)."""
