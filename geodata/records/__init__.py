"""Records of people and places, read and written in a scope: households, visits, the inputs
the analyses read, and the as-of replay of states shared by the maps and the reports."""
