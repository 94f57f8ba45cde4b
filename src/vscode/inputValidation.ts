import { isWorkbenchError } from '../core/errors';

/** A `validateInput` for input boxes: the parser's own message while the text is wrong, nothing once it parses. */
export function validateWith(parse: (text: string) => unknown): (text: string) => string | undefined {
  return (text) => {
    try {
      parse(text);
      return undefined;
    } catch (error) {
      return isWorkbenchError(error) ? error.text : String(error);
    }
  };
}
