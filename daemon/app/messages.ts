/**
 * Every message of the application layer a person reads (the use cases' failures), written once.
 * Tests assert on these functions rather than on copies of their text.
 */
export const messages = {
  noData: (symbol: string) =>
    `No data for ${symbol} in the bank: ingest or import it first (ingest/run).`,
  noDataset: (symbol: string, interval: string) =>
    `No ${interval} data for ${symbol} in the bank, and no 1m data to derive it from.`,
  unknownGroup: (name: string, known: string[]) =>
    `Unknown group ${JSON.stringify(name)}; known groups: ${known.join(', ') || 'none'}.`,
  exportNotAbsolute: () => 'out must be an absolute path.',
  exportNoFolder: (dir: string) => `The folder ${dir} does not exist.`,
  exportNotFolder: (dir: string) => `${dir} is not a folder.`,
  exportExists: (file: string) => `${file} already exists; pass "overwrite": true to replace it.`,
  exportIsFolder: (file: string) => `${file} is a folder, not a file.`,
  exportExtension: (format = 'csv') => `out must end with .${format} (the format asked for).`,
  exportInsideBank: () => "out must not be inside the bank's processed or indicator folders.",
  startAfterEnd: () => 'start must be before end.',
} as const;
