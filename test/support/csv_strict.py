"""Load a CSV file with Python's csv module in strict mode (RFC 4180 quoting),
the way spreadsheets' and databases' loaders read it. Prints the records as
JSON, or one line on stderr and exit 1 when the file is not strict RFC 4180:
a bad quote, records of different lengths, a line end other than CRLF,
no final line end."""
import csv
import io
import json
import sys

def main(path):
    with open(path, 'rb') as f:
        data = f.read()
    text = data.decode('utf-8')  # strict: a file that is not UTF-8 fails here
    if not text.endswith('\r\n'):
        raise ValueError('the last record does not end with CRLF')
    records = list(csv.reader(io.StringIO(text, newline=''), dialect='excel', strict=True))
    # RFC 4180: every line end outside quotes is CRLF; count them against the records.
    outside = 0
    quoted = False
    for i, c in enumerate(text):
        if c == '"':
            quoted = not quoted
        elif c == '\n' and not quoted:
            if i == 0 or text[i - 1] != '\r':
                raise ValueError(f'bare LF at byte {i}')
            outside += 1
    if outside != len(records):
        raise ValueError(f'{outside} line ends outside quotes for {len(records)} records')
    widths = {len(r) for r in records}
    if len(widths) != 1:
        raise ValueError(f'records of different lengths: {sorted(widths)}')
    json.dump(records, sys.stdout)

if __name__ == '__main__':
    try:
        main(sys.argv[1])
    except (csv.Error, ValueError, UnicodeDecodeError) as error:
        print(f'{sys.argv[1]}: {error}', file=sys.stderr)
        sys.exit(1)
