export const title = 'ita-sim';

export function run(): void {
  console.log('not implemented yet');
}
