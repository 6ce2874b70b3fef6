export * from './errors.ts';
export * from './governor.ts';
export * from './http.ts';
export * from './rest.ts';
export * from './archive.ts';
