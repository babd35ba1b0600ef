import Table from 'cli-table3';

export interface Column<R> {
  header: string;
  get: (row: R) => unknown;
  align?: 'left' | 'right';
}

/** A plain cli-table3 table; numbers right-aligned by default. */
export function renderTable<R>(rows: R[], columns: Column<R>[]): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    style: { head: [], border: [], compact: true },
    colAligns: columns.map((c) => c.align ?? 'left'),
  });
  for (const row of rows) table.push(columns.map((c) => formatCell(c.get(row))));
  return table.toString();
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}
