export * from './channels';
export * from './messages';
export * from './schedule';
export * from './ssrf';
export * from './zoned';
