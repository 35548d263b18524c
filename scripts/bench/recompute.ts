export const title = 'recompute';

export function run(): void {
  console.log('not implemented yet');
}
