"""The real adapters behind the ports in services/profiles/ports.py."""
