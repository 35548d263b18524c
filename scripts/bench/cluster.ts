export const title = 'cluster';

export function run(): void {
  console.log('not implemented yet');
}
