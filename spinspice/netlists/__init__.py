"""The only code that writes SPICE and Verilog-A text (it never runs a simulator)."""
