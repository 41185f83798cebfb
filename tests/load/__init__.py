"""Load: many clients on a mix of endpoints of a real service while its cluster keeps changing."""
