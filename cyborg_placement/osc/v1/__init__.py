"""Commands of accelerator API version 1."""
