"""Text formats shared by every output: CSV lines (RFC 4180, formula guard), exact numbers.

Pure functions over values, with no knowledge of usage rows: ``csv_lines`` writes cells
as the snapshot and the API's ``format=csv`` both need them, ``decimal_numbers`` writes
exact quantities as decimal text (CSV) or JSON numbers. They sit below every other
package, ``metering`` included, so the row specification can name its encodings.
"""
