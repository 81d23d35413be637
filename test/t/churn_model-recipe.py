#!/usr/bin/python3
"""The README recipe "Do the health signals explain churn?" runs as written
against the demo data (test/demo), after the recipe it builds on ("Health
score on weekly usage, banded, then tuned against churn", which makes the
`cohort` table), and every figure its comments quote (numbers with a decimal
point) is one the queries print.

Run by `make test` inside the test cluster (PGHOST etc. set); exit 0 = pass.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
DB = 'cs_churn_model_recipe'
SECTIONS = ['### Health score on weekly usage, banded, then tuned against churn',
            '### Do the health signals explain churn?']
NUMBER = re.compile(r'-?\d+\.\d+(?:e[-+]?\d+)?')


def section_blocks(readme, heading):
    start = readme.index(heading + '\n')
    end = readme.find('\n### ', start + len(heading))
    body = readme[start:end if end >= 0 else len(readme)]
    return re.findall(r'```sql\n(.*?)```', body, re.S)


def main():
    with open(os.path.join(ROOT, 'README.md')) as f:
        readme = f.read()
    setup = ''.join(section_blocks(readme, SECTIONS[0]))
    blocks = section_blocks(readme, SECTIONS[1])
    if len(blocks) < 3:
        print('the recipe has %d SQL blocks, expected 3' % len(blocks))
        return 1
    subprocess.run(['dropdb', '--if-exists', DB], check=True, stderr=subprocess.DEVNULL)
    subprocess.run(['createdb', DB], check=True)
    failures = 0
    try:
        demo = os.path.join(ROOT, 'test', 'demo')
        subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', 'CREATE EXTENSION customer_success',
                        '-f', os.path.join(demo, 'data.sql'), '-f', os.path.join(demo, 'data_purchases.sql')],
                       check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB],
                           input=setup, capture_output=True, text=True)
        if r.returncode:
            print('the health recipe fails:\n' + r.stderr)
            return 1
        for i, block in enumerate(blocks, 1):
            r = subprocess.run(['psql', '-X', '-q', '-At', '-F', ' ', '-v', 'ON_ERROR_STOP=1', '-d', DB],
                               input=block, capture_output=True, text=True)
            if r.returncode:
                print('block %d fails:\n%s' % (i, r.stderr))
                failures += 1
                continue
            printed = set(NUMBER.findall(r.stdout))
            quoted = [n for line in block.splitlines() if line.startswith('--')
                      for n in NUMBER.findall(line)]
            missing = [n for n in quoted if n not in printed]
            print('block %d prints:\n%s' % (i, r.stdout.rstrip()))
            if not quoted:
                print('block %d quotes no figure' % i)
                failures += 1
            elif missing:
                print('block %d quotes %s, not printed' % (i, ', '.join(missing)))
                failures += 1
            else:
                print('block %d: all %d quoted figures printed' % (i, len(quoted)))
    finally:
        subprocess.run(['dropdb', '--if-exists', DB], check=True)
    print('%d failures' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
