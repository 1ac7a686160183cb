"""Tax receipts: numbered, immutable PDFs for succeeded gifts; annual receipts; exports."""
