/** The product version, defined by esbuild from package.json (the sources fall back to it). */
export const PRODUCT_VERSION: string = process.env.THREADX_VERSION ?? '0.1.0';
