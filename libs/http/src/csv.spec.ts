import { toCsv, wantsCsv } from './csv';

describe('CSV', () => {
  it('writes a header, quotes what needs quoting and defuses formulas', () => {
    const csv = toCsv(['a', 'b'], [
      ['海淀区', 'x,y'],
      ['say "hi"', '=SUM(A1)'],
      [null, 1.5],
    ]);
    expect(csv).toBe('\uFEFFa,b\r\n海淀区,"x,y"\r\n"say ""hi""",\'=SUM(A1)\r\n,1.5\r\n');
  });

  it('reads the Accept header', () => {
    expect(wantsCsv('text/csv')).toBe(true);
    expect(wantsCsv('application/json, text/csv;q=0.9')).toBe(true);
    expect(wantsCsv('application/json')).toBe(false);
    expect(wantsCsv(undefined)).toBe(false);
  });
});
