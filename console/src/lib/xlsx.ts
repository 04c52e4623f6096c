/**
 * .xlsx downloads with Chinese headers, built in the browser with exceljs (never the npm
 * `xlsx` package: an old SheetJS release with a prototype-pollution advisory). Loaded lazily:
 * only a page's export button pulls it in.
 */
import ExcelJS from 'exceljs';

export interface Column { header: string; key: string; width?: number }

export async function workbookBuffer(sheetName: string, columns: Column[], rows: Array<Record<string, unknown>>): Promise<ArrayBuffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = '社区服务预约 工作人员后台';
  const ws = wb.addWorksheet(sheetName);
  ws.columns = columns;
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(r);
  return (await wb.xlsx.writeBuffer()) as ArrayBuffer;
}

export async function downloadXlsx(fileName: string, sheetName: string, columns: Column[], rows: Array<Record<string, unknown>>): Promise<void> {
  const buffer = await workbookBuffer(sheetName, columns, rows);
  const url = URL.createObjectURL(new Blob([buffer], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
