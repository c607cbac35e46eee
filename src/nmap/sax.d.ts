/** The part of sax's API the nmap XML readers use; sax ships no types of its own. */
declare module 'sax' {
  export interface SaxOptions {
    trim?: boolean;
    normalize?: boolean;
    xmlns?: boolean;
    /** Line and column tracking, for error messages only; off saves work on every character. */
    position?: boolean;
  }

  export interface SaxTag {
    name: string;
    attributes: Record<string, string>;
    isSelfClosing: boolean;
  }

  export interface SaxParser {
    onopentag: (tag: SaxTag) => void;
    onclosetag: (name: string) => void;
    ontext: (text: string) => void;
    onerror: (err: Error) => void;
    write(chunk: string): SaxParser;
    close(): SaxParser;
  }

  const sax: { parser(strict: boolean, options?: SaxOptions): SaxParser };
  export default sax;
}
