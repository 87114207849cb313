"""Versioned notifications of accelerator events, in Nova's style."""
