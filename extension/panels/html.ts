/**
 * The HTML shell of every webview: a strict Content Security Policy with a fresh nonce (scripts
 * and styles run only from the bundle, never inline or from elsewhere), theme variables from VS
 * Code, and the bundle's script and stylesheet from `dist/webviews`.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function nonce(): string {
  return randomBytes(18).toString('base64url');
}

/** The CSP of a ThreadX webview. No 'unsafe-eval': Vega runs with its expression interpreter. */
export function contentSecurityPolicy(cspSource: string, n: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource} 'nonce-${n}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
}

export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  bundle: 'manager' | 'chart',
  title: string,
): string {
  const n = nonce();
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webviews');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, `${bundle}.css`));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, n)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${n}" href="${style.toString()}">
<title>${title}</title>
</head>
<body>
<div id="app" data-view="${bundle}"></div>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
}

export function webviewOptions(
  extensionUri: vscode.Uri,
): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews')],
  };
}
