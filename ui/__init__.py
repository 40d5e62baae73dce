"""The Streamlit side: log-in, cached access to core, shared widgets. Pages import from here."""
