"""The domain of the renewal back office, importable without Streamlit."""
